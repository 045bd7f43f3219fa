"""The inclusion proof page (`/ui/proofs/{event}`) and its downloads over HTTP, on both backends.

Signed in with the pages' cookie (no bearer header), a human rights officer opens any event's
proof, a partner only its own (another partner's event is 404); the downloaded JSON verifies
offline against the checkpoint and verifier key the page shows.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from api.runtime import audit_ledger
from security.ledger import verify_proof
from tests.api.conftest import Api, raw
from tests.api.conftest import api as api  # the HTTP fixture on each backend, shared
from tests.api.scenario import register
from tests.ui.test_pages import sign_in


def seal(api: Api) -> int:
    """What `registry checkpoint` does: integrate every stored event, sign; the tree size."""
    app: Any = api.client.app
    with audit_ledger(app.state.settings) as ledger:
        return ledger.checkpoint().tree_size


def shown(page: str, pattern: str) -> str:
    found = re.search(pattern, page, re.DOTALL)
    assert found is not None, pattern
    return html.unescape(found.group(1))


def checkpoint_of(page: str) -> str:
    return shown(page, r'<pre class="checkpoint"[^>]*>(.*?)</pre>')


def key_of(page: str) -> str:
    return shown(page, r'<code class="verifier-key">(.*?)</code>')


def download_href(page: str, label: str) -> str:
    return shown(page, rf'<a href="([^"]+)" download="[^"]+">{label}')


def test_a_human_rights_officer_opens_a_proof_page_and_its_download_verifies(api: Api) -> None:
    partner = raw(register(api, "Aweil Peace Network"))
    for name in ("Aweil Traders", "Aweil Elders", "Aweil Youth"):  # a tree with a real path
        register(api, name)
    size = seal(api)
    sign_in(api, "human_rights_officer")
    history = api.client.get(f"/ui/history/{partner}")
    assert f'href="/ui/proofs/{partner}%3A1"' in history.text
    partner_page = api.client.get(f"/ui/partners/{partner}")
    assert "/ui/proofs/" in partner_page.text
    assert "/ledger/proofs/inclusion" not in partner_page.text + history.text

    page = api.client.get(f"/ui/proofs/{partner}:1")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    text = page.text
    note = checkpoint_of(text)
    key = key_of(text)
    assert note.splitlines()[1] == str(size)
    assert shown(text, r'<dd class="tree-size">(\d+)</dd>') == str(size)
    leaf_index = int(shown(text, r'<dd class="leaf-index">(\d+)</dd>'))
    path = re.findall(r'<li><code class="hash">([0-9a-f]{64})</code></li>', text)
    assert path

    download = api.client.get(download_href(text, "Download the proof"))
    assert download.status_code == 200
    assert download.headers["content-disposition"] == (
        f'attachment; filename="proof-{partner}-v1.json"'
    )
    assert download.headers["content-type"].startswith("application/json")
    check = verify_proof(key, note, download.text)
    assert check.ok, check.message
    proof = json.loads(download.text)
    assert (proof["leaf_index"], proof["tree_size"], proof["path"]) == (leaf_index, size, path)
    assert proof["event"]["stream_id"] == partner

    saved_checkpoint = api.client.get(download_href(text, "Download the signed checkpoint"))
    assert saved_checkpoint.headers["content-disposition"].startswith("attachment;")
    assert saved_checkpoint.text == note

    command = shown(text, r'<pre class="command"[^>]*><code>(.*?)</code></pre>')
    assert command == (
        f"registry verify-proof --public-key {key} --checkpoint checkpoint-{size}.txt"
        f" --proof proof-{partner}-v1.json"
    )


def test_a_partner_sees_its_own_proofs_and_never_another_partners(api: Api) -> None:
    own = raw(register(api, "Nimule Women"))
    other = raw(register(api, "Torit Elders"))
    seal(api)
    sign_in(api, "partner", org=own)
    own_page = api.client.get(f"/ui/partners/{own}")
    assert f'href="/ui/proofs/{own}%3A1"' in own_page.text  # partners get proof links now
    mine = api.client.get(f"/ui/proofs/{own}:1")
    assert mine.status_code == 200, mine.text
    assert verify_proof(
        key_of(mine.text),
        checkpoint_of(mine.text),
        api.client.get(download_href(mine.text, "Download the proof")).text,
    ).ok
    for path in (f"/ui/proofs/{other}:1", f"/ui/proofs/{other}:1.json"):
        theirs = api.client.get(path)
        assert theirs.status_code == 404, path
        assert "Torit" not in theirs.text
        assert "leaf_hash" not in theirs.text
    assert api.client.get(f"/ui/proofs/{other}:1.checkpoint").status_code == 404
    assert api.client.get("/ui/proofs/nonsense").status_code == 404


def test_proof_pages_need_the_sign_in_cookie(api: Api) -> None:
    partner = raw(register(api, "Rumbek Youth Forum"))
    seal(api)
    api.client.cookies.clear()
    bearer = {"Authorization": f"Bearer {api.token('human_rights_officer')}"}
    for path in (f"/ui/proofs/{partner}:1", f"/ui/proofs/{partner}:1.json"):
        response = api.client.get(path, headers=bearer, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/ui/sign-in")


def test_an_event_not_integrated_yet_is_explained_as_not_found(api: Api) -> None:
    seal(api)
    partner = raw(register(api, "Kuajok Farmers"))  # after the last checkpoint
    sign_in(api, "human_rights_officer")
    page = api.client.get(f"/ui/proofs/{partner}:1")
    assert page.status_code == 404
    assert "not integrated yet" in page.text

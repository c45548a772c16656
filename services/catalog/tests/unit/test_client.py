import socket

import pytest

from lumbung.catalog.client import CatalogClient


def test_waiting_for_an_api_that_does_not_answer_ends_naming_the_wait() -> None:
    """`lumbung-catalog demo --wait` in a compose job started beside the API: nothing
    listens yet, which is waited for like a key not yet known, then given up."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    client = CatalogClient(f"http://127.0.0.1:{port}", "lmb_not_a_key")

    with pytest.raises(SystemExit, match="did not accept the key within 1 s"):
        client.wait_until_key_accepted(timeout_s=1)

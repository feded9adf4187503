"""pytest fixtures for secretslite: one server for the session, started from its CLI, wiped before every test.

Copy this file next to your tests. It starts `npx secretslite` (secretslite installed in your project's
node_modules, SoftHSM2 on the machine); set SECRETSLITE_COMMAND to start it another way, such as
`node path/to/secretslite/bin/secretslite.js`. Needs pytest and boto3, nothing else.
"""
import json
import os
import shlex
import subprocess
import time
import urllib.request

import boto3
import pytest

REGION = "us-east-1"


def _wait_until_ready(endpoint, process, timeout=60.0):
    """Health answers 200 once storage and the token are open and the seed is in; 503 before."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"secretslite exited with {process.returncode}: {process.stderr.read()}")
        try:
            with urllib.request.urlopen(f"{endpoint}/_secretslite/health", timeout=2) as response:
                if response.status == 200 and json.load(response)["status"] == "ready":
                    return
        except OSError:  # refused while starting, or 503 (HTTPError is an OSError)
            pass
        time.sleep(0.1)
    raise RuntimeError(f"secretslite was not ready within {timeout} s")


@pytest.fixture(scope="session")
def secretslite_endpoint():
    """Starts secretslite on a free port (--port 0) and yields its endpoint; stops it after the last test."""
    command = shlex.split(os.environ.get("SECRETSLITE_COMMAND", "npx secretslite"))
    process = subprocess.Popen(
        [*command, "--in-memory", "--port", "0", "--log-level", "warn"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The first line says where it listens: "secretslite listening on http://127.0.0.1:PORT".
        ready = process.stdout.readline().strip()
        if not ready.startswith("secretslite listening on "):
            raise RuntimeError(f"secretslite did not start: {ready!r} {process.stderr.read() if process.poll() is not None else ''}")
        endpoint = ready.rsplit(" ", 1)[1]
        _wait_until_ready(endpoint, process)
        yield endpoint
    finally:
        # SIGTERM: secretslite closes its storage and removes the in-memory token before exiting.
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


@pytest.fixture(autouse=True)
def secretslite_reset(secretslite_endpoint):
    """Every test starts from nothing (and from the seed, if the server was given one)."""
    request = urllib.request.Request(f"{secretslite_endpoint}/_secretslite/reset", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    return secretslite_endpoint


def _client(service, endpoint, access_key="test"):
    # Any credentials are accepted; a 12-digit access key acts in that account (otherwise 000000000000).
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key="test",
    )


@pytest.fixture
def secretsmanager(secretslite_endpoint):
    return _client("secretsmanager", secretslite_endpoint)


@pytest.fixture
def kms(secretslite_endpoint):
    return _client("kms", secretslite_endpoint)


@pytest.fixture
def client_in_account(secretslite_endpoint):
    """client_in_account("secretsmanager", "111122223333"): a client acting in that account."""
    return lambda service, account: _client(service, secretslite_endpoint, access_key=account)

"""``parley node`` and ``parley serve`` with TLS: certificates made, shown, pinned, renewed; peer
URLs checked; one-line errors for missing or broken TLS files (before any server starts)."""

import json
from pathlib import Path

import pytest

from parley.cli.main import run
from parley.hotline.config import read_config
from parley.hotline.tls import TLS_CERT_FILE, TLS_KEY_FILE, certificate_fingerprint


def _ok(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = run(list(args))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def _fails(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert run(list(args)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("parley: error: ")
    return err


def _node(tmp_path: Path, capsys: pytest.CaptureFixture[str], party: str) -> tuple[str, Path]:
    directory = str(tmp_path / party)
    out = _ok(capsys, "node", "init", directory, "--party", party)
    certificate = (tmp_path / party / TLS_CERT_FILE).read_bytes()
    assert f"tls certificate sha256 {certificate_fingerprint(certificate)}" in out
    identity = tmp_path / f"{party}.json"
    identity.write_text(_ok(capsys, "node", "identity", directory))
    shown = json.loads(identity.read_text())["tls_fingerprint"]
    assert shown == certificate_fingerprint(certificate)
    return directory, identity


def test_trust_pins_the_certificate_and_prints_both_fingerprints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nato, _ = _node(tmp_path, capsys, "nato")
    _, russia_json = _node(tmp_path, capsys, "russia")
    data = json.loads(russia_json.read_text())
    assert data["tls_certificate"].startswith("-----BEGIN CERTIFICATE-----")
    out = _ok(capsys, "node", "trust", nato, str(russia_json), "--url", "https://10.0.0.2:8701")
    assert f"fingerprint {data['fingerprint']}" in out
    assert f"tls certificate sha256 {data['tls_fingerprint']}" in out
    peer = read_config(Path(nato)).peer
    assert peer is not None
    assert peer.pinned_certificate == data["tls_certificate"].encode()


def test_peer_urls_are_checked_at_trust(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nato, _ = _node(tmp_path, capsys, "nato")
    _, russia_json = _node(tmp_path, capsys, "russia")
    err = _fails(capsys, "node", "trust", nato, str(russia_json), "--url", "http://10.0.0.2:8700")
    assert "plain http:// is only for a peer on loopback" in err
    assert "https:// (or http:// on loopback)" in _fails(
        capsys, "node", "trust", nato, str(russia_json), "--url", "ftp://r"
    )
    assert read_config(Path(nato)).peer is None  # nothing trusted
    _ok(capsys, "node", "trust", nato, str(russia_json), "--url", "http://127.0.0.1:8700")


def test_an_old_identity_pairs_only_on_loopback_and_an_old_node_gets_tls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nato, nato_json = _node(tmp_path, capsys, "nato")
    russia, russia_json = _node(tmp_path, capsys, "russia")
    old = json.loads(russia_json.read_text())
    del old["tls_certificate"], old["tls_fingerprint"]
    old_json = tmp_path / "old-russia.json"
    old_json.write_text(json.dumps(old))
    assert "the peer's identity has no TLS certificate" in _fails(
        capsys, "node", "trust", nato, str(old_json), "--url", "https://r.example:8701"
    )

    # russia as a node made before mutual TLS
    (tmp_path / "russia" / TLS_KEY_FILE).unlink()
    (tmp_path / "russia" / TLS_CERT_FILE).unlink()
    err = _fails(capsys, "node", "trust", russia, str(nato_json), "--url", "https://n.example")
    assert "tls-cert.pem: this node has no TLS certificate yet (see parley node tls)" in err
    out = _ok(capsys, "node", "tls", russia)
    assert "new TLS certificate" in out
    assert (tmp_path / "russia" / TLS_KEY_FILE).stat().st_mode & 0o777 == 0o600
    _ok(capsys, "node", "trust", russia, str(nato_json), "--url", "https://n.example")
    assert "already has a TLS certificate (--renew replaces it)" in _fails(
        capsys, "node", "tls", russia
    )


def test_renewal_changes_the_fingerprint_and_the_peer_repins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nato, _ = _node(tmp_path, capsys, "nato")
    russia, russia_json = _node(tmp_path, capsys, "russia")
    _ok(capsys, "node", "trust", nato, str(russia_json), "--url", "https://r.example")
    before = json.loads(russia_json.read_text())
    _ok(capsys, "node", "tls", russia, "--renew")
    russia_json.write_text(_ok(capsys, "node", "identity", russia))
    after = json.loads(russia_json.read_text())
    assert after["public_key"] == before["public_key"]
    assert after["fingerprint"] != before["fingerprint"]
    assert after["tls_certificate"] != before["tls_certificate"]
    out = _ok(capsys, "node", "trust", nato, str(russia_json), "--url", "https://r.example")
    assert after["fingerprint"] in out
    peer = read_config(Path(nato)).peer
    assert peer is not None
    assert peer.pinned_certificate == after["tls_certificate"].encode()


@pytest.fixture
def paired(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    nato, _ = _node(tmp_path, capsys, "nato")
    _, russia_json = _node(tmp_path, capsys, "russia")
    _ok(capsys, "node", "trust", nato, str(russia_json), "--url", "https://r.example:8701")
    return nato


def test_serve_names_a_missing_or_broken_tls_file_in_one_line(
    paired: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cert, key = Path(paired) / TLS_CERT_FILE, Path(paired) / TLS_KEY_FILE
    good_key = key.read_bytes()
    key.write_bytes(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    err = _fails(capsys, "serve", paired)
    assert f"{cert}, {key}: cannot load" in err
    key.write_bytes(good_key)
    cert.unlink()
    err = _fails(capsys, "serve", paired)
    assert f"{cert}: no such file (a node made before mutual TLS? see parley node tls)" in err


def test_serve_checks_ports_and_hosts(
    paired: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "the officers' API already uses it" in _fails(
        capsys, "serve", paired, "--port", "8800", "--peer-port", "8800"
    )
    assert "--peer-port 70000: not a TCP port" in _fails(
        capsys, "serve", paired, "--peer-port", "70000"
    )
    loopback, _ = _node(tmp_path / "b", capsys, "nato")
    _, russia_json = _node(tmp_path / "b", capsys, "russia")
    _ok(capsys, "node", "trust", loopback, str(russia_json), "--url", "http://127.0.0.1:8700")
    assert "served on loopback only" in _fails(capsys, "serve", loopback, "--host", "0.0.0.0")
    lonely, _ = _node(tmp_path / "c", capsys, "nato")
    assert "no peer trusted yet" in _fails(capsys, "serve", lonely)

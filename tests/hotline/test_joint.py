"""Joint checkpoints: proposed by one node, countersigned by the other over heads both hold,
stored byte-identical on both, checked by verify; anything else refused with a reason."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from parley.hotline import joint
from parley.hotline.checkpoint import Checkpoint, joint_checkpoint_body, sign_note, split_note
from parley.hotline.keys import PartyKey
from parley.hotline.node import Node, init_node
from parley.store import schema
from parley.store.engine import write


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    nato, russia = init_node(tmp_path / "nato", "nato"), init_node(tmp_path / "russia", "russia")
    nato.trust(russia.identity_json(), "http://russia.test")
    russia.trust(nato.identity_json(), "http://nato.test")
    yield nato, russia
    nato.close()
    russia.close()


def _carry(sender: Node, receiver: Node, path: Path) -> None:
    sender.export_bundle(path)
    receiver.import_bundle(path)


def _traffic(nato: Node, russia: Node, tmp_path: Path) -> None:
    """nato sends a test; russia gets it; nato gets russia's log and its receipt."""
    nato.send(6, {"sequence": "1"})
    _carry(nato, russia, tmp_path / "out.bundle")
    _carry(russia, nato, tmp_path / "back.bundle")


def test_both_nodes_hold_the_same_joint_checkpoint_signed_by_both(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    nato, russia = pair
    assert joint.propose(nato) is None  # no receipt covers nato's head yet
    _traffic(nato, russia, tmp_path)
    proposal = joint.propose(nato)
    assert proposal is not None
    answer = joint.countersign(russia, proposal)
    agreed = joint.accept(nato, answer)
    on_nato, on_russia = joint.latest_joint(nato), joint.latest_joint(russia)
    assert on_nato is not None
    assert on_russia is not None
    assert on_nato.note == on_russia.note == answer
    sizes = {head.origin: head.size for head in (agreed.first, agreed.second)}
    assert sizes == {nato.log_id: 2, russia.log_id: 1}
    body, lines = split_note(answer)
    assert [line.key_name for line in lines] == sorted((nato.log_id, russia.log_id))
    assert body.startswith("parley/joint-checkpoint/v1\n")
    assert nato.verify().ok
    assert russia.verify().ok
    assert joint.propose(nato) is None  # these heads are agreed already
    json_view = on_nato.to_json()
    assert [log["size"] for log in json_view["logs"]] == [
        sizes[log["log_id"]] for log in json_view["logs"]
    ]


def test_a_proposal_of_heads_the_countersigner_never_had_is_refused(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    nato, russia = pair
    _traffic(nato, russia, tmp_path)
    russia_head = Checkpoint(russia.log_id, 1, bytes(32))
    nato_head = Checkpoint(nato.log_id, 2, bytes(32))
    forged = sign_note(joint_checkpoint_body(nato_head, russia_head), nato.log_id, nato.key)
    with pytest.raises(joint.JointError, match="differs from ours"):
        joint.countersign(russia, forged)
    longer = Checkpoint(nato.log_id, 9, bytes(32))
    ahead = sign_note(joint_checkpoint_body(longer, russia_head), nato.log_id, nato.key)
    with pytest.raises(joint.JointError, match=r"no checkpoint of .* at size 9"):
        joint.countersign(russia, ahead)
    assert joint.latest_joint(russia) is None


def test_a_proposal_not_signed_by_the_peer_is_refused(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    nato, russia = pair
    _traffic(nato, russia, tmp_path)
    proposal = joint.propose(nato)
    assert proposal is not None
    impostor = PartyKey.generate("nato")
    body = split_note(proposal)[0]
    with pytest.raises(joint.JointError, match="no signature from a trusted key"):
        joint.countersign(russia, sign_note(body, nato.log_id, impostor))
    with pytest.raises(joint.JointError, match="not signed by both parties"):
        joint.accept(nato, proposal)  # an answer with only our own signature


def test_verify_catches_an_altered_joint_checkpoint(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    nato, russia = pair
    _traffic(nato, russia, tmp_path)
    proposal = joint.propose(nato)
    assert proposal is not None
    note = joint.countersign(russia, proposal)
    joint.accept(nato, note)
    altered = note.replace("\n2\n", "\n1\n", 1)
    assert altered != note
    with write(nato.engine) as connection:
        connection.execute(update(schema.joint_checkpoints).values(note=altered))
    report = nato.verify()
    assert not report.ok
    assert any(p.startswith("joint checkpoint") for p in report.problems), report.problems
    assert russia.verify().ok

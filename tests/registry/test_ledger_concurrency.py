"""Two debits of one holder at the same moment: exactly one succeeds, and nothing is overdrawn."""

import threading
from decimal import Decimal

from portal.extensions import db
from portal.registry import services
from tests.factories import make_enterprise


def test_concurrent_transfers_cannot_overdraw(app):
    with app.app_context():
        seller, first, second = (make_enterprise(n) for n in ("卖方", "买方一", "买方二"))
        services.issue_indicators(seller.id, "energy", 100, "确权")
        db.session.commit()
        ids = seller.id, first.id, second.id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def buy(buyer_id: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                services.transfer_indicators(ids[0], buyer_id, "energy", 60, "成交")
                db.session.commit()
                outcomes.append("ok")
            except services.LedgerError as error:
                db.session.rollback()
                outcomes.append(error.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=buy, args=(b,)) for b in ids[1:]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["insufficient", "ok"]
    with app.app_context():
        assert services.balances(ids[0]) == {"energy": Decimal("40")}
        total = sum(services.balances(i).get("energy", 0) for i in ids)
        assert total == Decimal("100")

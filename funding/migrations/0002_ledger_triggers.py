"""PostgreSQL holds the ledger's two rules itself:

- a ledger entry (and a ledger transaction) is never updated or deleted;
- a ledger transaction's entries sum to zero and it has at least two of them, checked when the
  database transaction commits (DEFERRABLE INITIALLY DEFERRED constraint triggers), so a service
  can insert a transaction and then its entries.

Other databases (SQLite, the embedded default) rely on the posting service's own check.
TRUNCATE is left alone: the test runner empties tables with it.
"""
from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION funding_ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % (id %) refused', TG_OP, TG_TABLE_NAME, OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER funding_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON funding_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION funding_ledger_refuse_change();

CREATE TRIGGER funding_ledgertransaction_append_only
    BEFORE UPDATE OR DELETE ON funding_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION funding_ledger_refuse_change();

CREATE OR REPLACE FUNCTION funding_ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    txn_id bigint;
    total numeric;
    legs integer;
BEGIN
    IF TG_TABLE_NAME = 'funding_ledgerentry' THEN
        txn_id := NEW.transaction_id;
    ELSE
        txn_id := NEW.id;
    END IF;
    SELECT COALESCE(SUM(amount), 0), COUNT(*) INTO total, legs
        FROM funding_ledgerentry WHERE transaction_id = txn_id;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: its entries sum to %', txn_id, total
            USING ERRCODE = 'check_violation';
    END IF;
    IF legs < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has % entries; money moves between at least two accounts', txn_id, legs
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER funding_ledgerentry_balanced
    AFTER INSERT ON funding_ledgerentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION funding_ledger_check_balanced();

CREATE CONSTRAINT TRIGGER funding_ledgertransaction_balanced
    AFTER INSERT ON funding_ledgertransaction
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION funding_ledger_check_balanced();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS funding_ledgertransaction_balanced ON funding_ledgertransaction;
DROP TRIGGER IF EXISTS funding_ledgerentry_balanced ON funding_ledgerentry;
DROP FUNCTION IF EXISTS funding_ledger_check_balanced();
DROP TRIGGER IF EXISTS funding_ledgertransaction_append_only ON funding_ledgertransaction;
DROP TRIGGER IF EXISTS funding_ledgerentry_append_only ON funding_ledgerentry;
DROP FUNCTION IF EXISTS funding_ledger_refuse_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("funding", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]

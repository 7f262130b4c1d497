"""X12 in and out: the 837P read and validated as it streams (`services.inbound_837_import`, its 999
by `ack_999`), the 835 of a remittance written (`remittance_835`)."""
from .write_835 import remittance_835

__all__ = ["remittance_835"]

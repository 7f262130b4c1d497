"""What the dashboards' tests share besides fixtures."""
import datetime

DEMO_DATE = datetime.date(2026, 6, 15)  # the business date of the tests' demo world
ROLE_LOGINS = ("provider", "examiner", "supervisor", "employer", "carrier", "member")
SECOND_LOGINS = {"provider": "provider2", "employer": "employer2", "member": "member2"}  # another party of a kind

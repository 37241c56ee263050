"""Query parameter names: the URL holds the whole state of every list."""

VENDOR = "vendor"
SOURCE = "source"
PERSON = "person"
ACTION = "action"
OBJECT_TYPE = "object_type"
CATEGORY = "category"
OUTCOME = "outcome"
RANGE = "range"
DATE_FROM = "date_from"
DATE_TO = "date_to"
TEXT = "q"
CURSOR = "cursor"
PAGE = "page"
FILE_TYPE = "file_type"
CONTEXT = "context"
PERIOD = "period"
TIMEZONE = "tz"
EVENT = "event"  # the event open in the log's side panel

PAGE_SIZE = 50
RANGES = {"24h": 1, "7d": 7, "30d": 30, "90d": 90}

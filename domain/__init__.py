"""Pure domain logic for Pingan, with no Flask import.

- ``idcard``: GB 11643 identity numbers and other documents, masking.
- ``phone``: telephone numbers to E.164, masking.
- ``geo``: WGS-84 distances, SQL bounding boxes, GCJ-02 for Chinese map tiles.
- ``pinyin``: search keys for Chinese names.
- ``checkin_rules``: evidence flags for patrol check-ins.

Errors meant for users are raised or returned as codes (strings); the app
translates them.
"""

-- Careloop local cache, schema version 13: alerts on key events are events in the log
-- (`alert.raised`, `alert.acknowledged`, folded by careloop-ops), so that they sync and an
-- acknowledgement holds on every workstation. The local table of schema 11 goes; the alerts
-- it held were never shared, and the live lists raise an alert again for new data.
DROP INDEX alert_patient;
DROP TABLE alert;

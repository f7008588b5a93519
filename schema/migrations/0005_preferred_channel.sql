-- The documented preferred contact channel of a person: the system (phone, sms, email) of the
-- Patient.telecom entry with the best (lowest) rank. Filled when a Patient is imported; NULL
-- for people imported before this column existed until they are imported again.
ALTER TABLE patient ADD COLUMN preferred_channel TEXT;

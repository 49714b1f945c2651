-- 20_outcomes.sql — the outcome catalog (DESIGN.md section 4).
--
-- What: the outcome codes a call's `outcome_code` may hold; the database rejects any other.
-- Inputs: table voice_migration.outcome_catalog (sql/expand/10_bookkeeping.sql).
-- Re-run: safe (ON CONFLICT DO NOTHING; descriptions a DBA edited are kept).

INSERT INTO voice_migration.outcome_catalog (code, description) VALUES
    ('appointment_booked',    'an appointment was booked'),
    ('order_placed',          'an order was placed'),
    ('information_provided',  'the caller got the information asked for'),
    ('transferred_to_human',  'the call was transferred to a person'),
    ('callback_requested',    'the caller asked to be called back'),
    ('not_interested',        'the person was not interested'),
    ('voicemail',             'the call reached voicemail'),
    ('no_answer',             'nobody answered'),
    ('busy',                  'the line was busy'),
    ('abandoned',             'a completed call shorter than the short-call threshold'),
    ('failed',                'the call failed (status failed or error)'),
    ('other',                 'none of the rules matched')
ON CONFLICT (code) DO NOTHING;

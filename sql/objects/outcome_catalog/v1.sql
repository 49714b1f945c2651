-- outcome_catalog v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the rows of voice_migration.outcome_catalog, exactly as
--       revision 0003_v2_expand installs it (manifest sql/revisions/0003_v2_expand/35_outcomes.objects, whose comments explain the design).
-- Inputs: the catalog table (revision 0003_v2_expand).
-- Re-run: safe (ON CONFLICT DO NOTHING): adds missing codes, keeps descriptions a DBA edited,
--         deletes nothing (codes cannot be deleted: catalog_keep_codes).

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

-- capability_catalog v1 — release 0.1's definition (tree 121c8df), replaceable object.
--
-- What: the rows of voice_migration.capability_catalog, exactly as
--       revision 0003_v2_expand installs it (manifest sql/revisions/0003_v2_expand/30_capabilities.objects, whose comments explain the design).
-- Inputs: the catalog table (revision 0003_v2_expand).
-- Re-run: safe (ON CONFLICT DO NOTHING): adds missing codes, keeps descriptions a DBA edited,
--         deletes nothing (codes cannot be deleted: catalog_keep_codes).

INSERT INTO voice_migration.capability_catalog (code, description) VALUES
    ('appointment_booking',       'books new appointments'),
    ('appointment_rescheduling',  'moves or cancels existing appointments'),
    ('reservations',              'takes table, room or service reservations'),
    ('faq',                       'answers frequently asked questions (hours, prices, location)'),
    ('human_transfer',            'transfers the caller to a person'),
    ('order_taking',              'takes orders'),
    ('lead_qualification',        'qualifies sales leads'),
    ('reminders',                 'calls or messages to remind of appointments or payments'),
    ('payments',                  'collects payments or deposits'),
    ('callback_scheduling',       'schedules a call back'),
    ('voicemail_handling',        'leaves or handles voicemail'),
    ('surveys',                   'runs surveys')
ON CONFLICT (code) DO NOTHING;

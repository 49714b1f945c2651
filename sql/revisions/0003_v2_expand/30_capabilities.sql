-- 10_capabilities.sql — the capability catalog (DESIGN.md section 4).
--
-- What: the capability codes a config's `capabilities` may hold; the database rejects any other.
-- Inputs: table voice_migration.capability_catalog (sql/expand/10_bookkeeping.sql).
-- Re-run: safe (ON CONFLICT DO NOTHING; descriptions a DBA edited are kept). To add a capability,
--         insert a row here or by hand, then add its keywords to voice_migration.capability_keywords.

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

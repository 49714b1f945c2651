-- 20_rule_tables.sql — the rule tables the v2 transformation reads (data, not code: DESIGN.md section 4).
--
-- What: creates the language, direction, legacy-outcome, outcome-inference, capability-keyword,
--       assistant-type-keyword and prompt-line tables in `voice_migration`. Their content is loaded
--       by sql/catalogs/30_rules.sql; a DBA may add rows (then re-run the backfill for unmigrated rows).
-- Inputs: the normalisers of sql/transform/10_normalise.sql must exist (the CHECKs use them).
-- Re-run: safe (IF NOT EXISTS).

-- Keys are stored already normalised (sql/transform/10_normalise.sql): a CHECK rejects a key typed
-- in another spelling, so a rule a DBA adds can never silently fail to match.

-- Language spellings (ISO 639 codes and language names) -> BCP 47 primary language subtag.
CREATE TABLE IF NOT EXISTS voice_migration.language_map (
    spelling_key text PRIMARY KEY CHECK (spelling_key <> '' AND spelling_key = voice_migration.normalize_key(spelling_key)),
    language     text NOT NULL CHECK (language ~ '^[a-z]{2,3}$')  -- a region comes from the spelling
);

-- Call direction spellings -> inbound / outbound.
CREATE TABLE IF NOT EXISTS voice_migration.direction_map (
    spelling_key text PRIMARY KEY CHECK (spelling_key <> '' AND spelling_key = voice_migration.normalize_key(spelling_key)),
    direction    text NOT NULL CHECK (direction IN ('inbound', 'outbound'))
);

-- v1 manual outcome spellings -> outcome code (outcome_source = 'manual').
CREATE TABLE IF NOT EXISTS voice_migration.legacy_outcome_map (
    spelling_key text PRIMARY KEY CHECK (spelling_key <> '' AND spelling_key = voice_migration.normalize_key(spelling_key)),
    outcome_code text NOT NULL REFERENCES voice_migration.outcome_catalog (code)
);

-- Outcome inference (outcome_source = 'inferred'); the lowest priority that matches wins.
--   stage 'status'       : match = the call's normalised status
--   stage 'ended_reason' : match is contained in the call's normalised ended_reason
--   stage 'transcript'   : match (folded words) starts a word of the call's folded transcript
--   stage 'short_call'   : match = seconds; a completed call shorter than that
CREATE TABLE IF NOT EXISTS voice_migration.outcome_rules (
    -- squawk-ignore prefer-bigint-over-int -- a rule's rank among a few dozen rules written by hand
    priority     integer PRIMARY KEY,
    stage        text NOT NULL CHECK (stage IN ('status', 'ended_reason', 'transcript', 'short_call')),
    match        text NOT NULL CHECK (match <> ''),
    outcome_code text NOT NULL REFERENCES voice_migration.outcome_catalog (code),
    UNIQUE (stage, match),
    CONSTRAINT outcome_rules_match_is_normalised CHECK (CASE stage
        WHEN 'status' THEN match = voice_migration.normalize_key(match)
        WHEN 'ended_reason' THEN match = voice_migration.normalize_key(match)
        WHEN 'transcript' THEN match = voice_migration.fold_keyword(match)
        ELSE match ~ '^[0-9]+(\.[0-9]+)?$' END)
);

-- Prompt keywords -> capability (folded words, matched at the start of a word of the folded prompt).
CREATE TABLE IF NOT EXISTS voice_migration.capability_keywords (
    keyword    text PRIMARY KEY CHECK (keyword <> '' AND keyword = voice_migration.fold_keyword(keyword)),
    capability text NOT NULL REFERENCES voice_migration.capability_catalog (code)
);

-- Prompt keywords -> assistant type, used only for a config without calls of a known direction.
CREATE TABLE IF NOT EXISTS voice_migration.assistant_type_keywords (
    keyword        text PRIMARY KEY CHECK (keyword <> '' AND keyword = voice_migration.fold_keyword(keyword)),
    assistant_type text NOT NULL CHECK (assistant_type IN ('inbound', 'outbound'))
);

-- Recognisable prompt lines. A 'label' marker is the text before ':' at the start of a line
-- (normalised), a 'bullet' marker is the first character of the line.
CREATE TABLE IF NOT EXISTS voice_migration.prompt_line_markers (
    marker      text NOT NULL CHECK (marker <> ''),
    marker_type text NOT NULL CHECK (marker_type IN ('label', 'bullet')),
    kind        text NOT NULL CHECK (kind IN ('greeting', 'farewell', 'instruction')),
    PRIMARY KEY (marker_type, marker),
    CONSTRAINT prompt_line_markers_marker_is_normalised CHECK (
        marker_type = 'bullet' AND length(marker) = 1
        OR marker_type = 'label' AND marker = voice_migration.fold_keyword(marker))
);

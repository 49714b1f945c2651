-- 50_validate.sql — validate the v2 constraints added NOT VALID by 0003_v2_expand.
--
-- What: VALIDATE CONSTRAINT for every v2 CHECK: a scan under SHARE UPDATE EXCLUSIVE, which does not
--       block reads or writes; it fails (and the revision rolls back) if any row breaks one.
-- Inputs: none.  Re-run: safe (validating a valid constraint is a no-op).

ALTER TABLE voice_agent_configs VALIDATE CONSTRAINT voice_agent_configs_assistant_type_check;
ALTER TABLE voice_agent_configs VALIDATE CONSTRAINT voice_agent_configs_voice_config_check;
ALTER TABLE voice_agent_configs VALIDATE CONSTRAINT voice_agent_configs_personality_check;
ALTER TABLE voice_agent_configs VALIDATE CONSTRAINT voice_agent_configs_capabilities_check;
ALTER TABLE voice_agent_configs VALIDATE CONSTRAINT voice_agent_configs_schema_version_check;
ALTER TABLE voice_agent_configs VALIDATE CONSTRAINT voice_agent_configs_migrated_from_check;
ALTER TABLE voice_agent_configs VALIDATE CONSTRAINT voice_agent_configs_v2_complete_check;
ALTER TABLE voice_agent_calls VALIDATE CONSTRAINT voice_agent_calls_outcome_source_check;
ALTER TABLE voice_agent_calls VALIDATE CONSTRAINT voice_agent_calls_outcome_pair_check;

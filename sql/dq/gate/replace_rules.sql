-- dq.rules from the rulebook (registered as _rules_frame)
DELETE FROM dq.rules;
INSERT INTO dq.rules SELECT * FROM _rules_frame;

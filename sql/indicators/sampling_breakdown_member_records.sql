-- Drill-down: the members of one sampling indicator with every column of their batches, as the view the
-- readers of whole records read (see complaints_breakdown_member_records.sql). Sampling's members table
-- already holds every column (a batch per 25 records: small), so the view is the table.
CREATE OR REPLACE TEMP VIEW ind_breakdown_member_records AS
SELECT * FROM ind_breakdown_members;

-- The workbook's rows (Arrow, registered as _xlsx_arrow: xlsx_reader._XLSX_ARROW) into _xlsx.
CREATE OR REPLACE TEMP TABLE _xlsx AS SELECT * FROM _xlsx_arrow

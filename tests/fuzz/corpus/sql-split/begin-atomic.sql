CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql
BEGIN ATOMIC
  SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;
  SELECT CASE WHEN a > 1 THEN CASE WHEN a > 2 THEN 3 END END;
  SELECT (CASE a WHEN 1 THEN 1 END);
END;
create procedure p() language sql begin /* c */ atomic insert into legend values ('end;'); end;
BEGIN; SELECT 1; END;
CREATE FUNCTION begin() RETURNS int LANGUAGE sql AS 'SELECT 1';

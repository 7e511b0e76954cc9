SELECT 1;
SELECT 'a
b';
  SELECT 3 -- x
;

	SELECT 4

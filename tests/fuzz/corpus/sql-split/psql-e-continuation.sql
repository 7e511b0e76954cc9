SELECT E'a'
'\';';
SELECT 2;

SELECT 'a;b', 'it''s; fine', '', 'C:\';
SELECT ''';';

SELECT 'é';  SELECT '日本';SELECT 3;
  SELECT 'ü' AS "ñ"
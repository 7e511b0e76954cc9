/* header; it's /* nested "x" $$ */ still; */
SELECT 1; -- don't; stop
SELECT /* ; */ 2 /*/ ; */;
-- only a comment;
;;;
SELECT '--', '/*', $$*/$$, "/*";
SELECT 1+--2;
3;

SELECT 1;
/* a /* b */
SELECT 'x';
SELECT $ab$ $a$ ; $ab ; $abc$ ; $ab$;
SELECT $b$ $a$ ; $b$, $a$ $b$ ; $a$;
SELECT $a$x$$a$;
PREPARE p AS SELECT $1, $2; SELECT $1$;
SELECT a$b$ FROM t; SELECT $A$ ; $a$ ; $A$;

CREATE TABLE "a;""b" ("x'" int, "--" int, "/*" int);
SELECT "$$" FROM "a;""b";

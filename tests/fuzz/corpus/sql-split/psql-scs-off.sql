SET standard_conforming_strings = off;
SELECT 'x\'; y\'';
SELECT 2;

SELECT E'it\'s; here', e'\\', E'a''b;c';
SELECT fe'x\';

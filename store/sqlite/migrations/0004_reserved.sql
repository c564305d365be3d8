-- 0004: reserved (schema version 4 is taken by another change); nothing to apply.
SELECT 1;

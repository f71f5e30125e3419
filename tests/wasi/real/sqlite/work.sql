CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000)
INSERT INTO t(name, score) SELECT 'name' || (x * 7919 % 20011), (x * 31 % 1000) / 10.0 FROM c;
CREATE INDEX t_name ON t(name);
SELECT count(*), sum(score), min(name), max(name) FROM t;
SELECT name, score FROM t WHERE name LIKE 'name1234%' ORDER BY name LIMIT 5;
BEGIN; UPDATE t SET score = score * 2 WHERE id % 3 = 0; COMMIT;
SELECT round(avg(score), 4) FROM t;
SELECT substr(group_concat(name, ','), 1, 60) FROM (SELECT name FROM t ORDER BY score DESC, name LIMIT 10);
DELETE FROM t WHERE id > 100;
VACUUM;
SELECT count(*) FROM t;
SELECT sqlite_version() IS NOT NULL;

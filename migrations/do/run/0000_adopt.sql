-- The first migration of a run's storage. It adopts tables that runs stored before migrations
-- existed (IF NOT EXISTS), and brings their step logs to the current shape whichever shape they
-- had: `logs` is rebuilt with each entry's UTF-8 size, newlines and open end measured from its
-- text, and `line_end` (the stream's newlines through the entry) summed in seq order for the
-- entries up to the attempt's acked seq; entries after a gap are sealed when their attempt ends,
-- as new ones are. A fresh object runs the same statements over empty tables.
CREATE TABLE IF NOT EXISTS `log_meta` (
	`step` text NOT NULL,
	`attempt` integer NOT NULL,
	`acked_seq` integer NOT NULL,
	`bytes` integer NOT NULL,
	`dropped_bytes` integer NOT NULL,
	PRIMARY KEY(`step`, `attempt`)
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `logs` (
	`step` text NOT NULL,
	`attempt` integer NOT NULL,
	`seq` integer NOT NULL,
	`stream` text NOT NULL,
	`text` text NOT NULL,
	PRIMARY KEY(`step`, `attempt`, `seq`)
);
--> statement-breakpoint
CREATE TABLE `__new_logs` (
	`step` text NOT NULL,
	`attempt` integer NOT NULL,
	`seq` integer NOT NULL,
	`stream` text NOT NULL,
	`text` text NOT NULL,
	`bytes` integer DEFAULT 0 NOT NULL,
	`newlines` integer DEFAULT 0 NOT NULL,
	`open_end` integer DEFAULT 0 NOT NULL,
	`line_end` integer,
	PRIMARY KEY(`step`, `attempt`, `seq`)
);
--> statement-breakpoint
INSERT INTO `__new_logs` (`step`, `attempt`, `seq`, `stream`, `text`, `bytes`, `newlines`, `open_end`, `line_end`)
SELECT m.step, m.attempt, m.seq, m.stream, m.text, m.bytes, m.newlines, m.open_end,
	CASE WHEN m.seq <= COALESCE(a.acked_seq, 0)
		THEN SUM(m.newlines) OVER (PARTITION BY m.step, m.attempt, m.stream, m.seq <= COALESCE(a.acked_seq, 0) ORDER BY m.seq)
	END
FROM (
	SELECT `step`, `attempt`, `seq`, `stream`, `text`,
		length(CAST(`text` AS BLOB)) AS bytes,
		length(`text`) - length(replace(`text`, char(10), '')) AS newlines,
		(`text` <> '' AND substr(`text`, -1) <> char(10)) AS open_end
	FROM `logs`
) m
LEFT JOIN `log_meta` a ON a.step = m.step AND a.attempt = m.attempt;
--> statement-breakpoint
DROP TABLE `logs`;
--> statement-breakpoint
ALTER TABLE `__new_logs` RENAME TO `logs`;
--> statement-breakpoint
CREATE INDEX `logs_by_line` ON `logs` (`step`,`attempt`,`stream`,`line_end`,`seq`);
--> statement-breakpoint
UPDATE `log_meta` SET `bytes` = (SELECT COALESCE(SUM(l.bytes), 0) FROM `logs` l
	WHERE l.step = `log_meta`.step AND l.attempt = `log_meta`.attempt);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `meta` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `run_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`message` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `steps` (
	`name` text PRIMARY KEY NOT NULL,
	`state` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `timers` (
	`key` text PRIMARY KEY NOT NULL,
	`at` integer NOT NULL
);

CREATE TABLE IF NOT EXISTS `active` (
	`run_id` text PRIMARY KEY NOT NULL,
	`dag_name` text NOT NULL,
	`queue` text,
	`started` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `queues` (
	`name` text PRIMARY KEY NOT NULL,
	`max_concurrency` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `waiting` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` text NOT NULL,
	`dag_name` text NOT NULL,
	`queue` text,
	`max_active_runs` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS `waiting_run_id_unique` ON `waiting` (`run_id`);
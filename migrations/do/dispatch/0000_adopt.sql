CREATE TABLE IF NOT EXISTS `lost_runners` (
	`runner_id` text PRIMARY KEY NOT NULL,
	`since` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `pools` (
	`name` text PRIMARY KEY NOT NULL
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `runners` (
	`runner_id` text PRIMARY KEY NOT NULL,
	`report` text NOT NULL,
	`last_seen_at` integer NOT NULL,
	`token_id` text
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS `tasks` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` text NOT NULL,
	`step` text NOT NULL,
	`dispatch_seq` integer NOT NULL,
	`enqueued_at` integer NOT NULL,
	`selector` text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS `tasks_run_id_step_dispatch_seq_unique` ON `tasks` (`run_id`,`step`,`dispatch_seq`);
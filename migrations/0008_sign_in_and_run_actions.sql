CREATE TABLE `run_actions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` text NOT NULL,
	`step` text,
	`action` text NOT NULL,
	`actor` text NOT NULL,
	`actor_kind` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `run_actions_run` ON `run_actions` (`run_id`,`id`);--> statement-breakpoint
CREATE TABLE `sign_in_attempts` (
	`key` text PRIMARY KEY NOT NULL,
	`attempts` integer NOT NULL,
	`window_start_at` integer NOT NULL
);

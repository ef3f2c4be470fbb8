CREATE TABLE `dag_runs` (
	`run_id` text PRIMARY KEY NOT NULL,
	`dag_name` text NOT NULL,
	`status` text NOT NULL,
	`params` text DEFAULT '' NOT NULL,
	`queued_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `dag_runs_dag_queued` ON `dag_runs` (`dag_name`,`queued_at`);--> statement-breakpoint
CREATE INDEX `dag_runs_status` ON `dag_runs` (`status`);--> statement-breakpoint
CREATE INDEX `dag_runs_queued` ON `dag_runs` (`queued_at`);--> statement-breakpoint
CREATE TABLE `dags` (
	`name` text PRIMARY KEY NOT NULL,
	`spec` text NOT NULL,
	`parsed` text,
	`tags` text DEFAULT '[]' NOT NULL,
	`errors` text DEFAULT '[]' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);

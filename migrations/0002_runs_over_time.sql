ALTER TABLE `dag_runs` ADD `queue` text;--> statement-breakpoint
ALTER TABLE `dag_runs` ADD `steps` text;--> statement-breakpoint
CREATE INDEX `dag_runs_finished` ON `dag_runs` (`finished_at`);--> statement-breakpoint
ALTER TABLE `dags` ADD `suspended` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `dags` ADD `next_run_at` integer;
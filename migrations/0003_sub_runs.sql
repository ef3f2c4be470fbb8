ALTER TABLE `dag_runs` ADD `parent_run_id` text;--> statement-breakpoint
ALTER TABLE `dag_runs` ADD `parent_dag_name` text;--> statement-breakpoint
ALTER TABLE `dag_runs` ADD `root_run_id` text;--> statement-breakpoint
ALTER TABLE `dag_runs` ADD `root_dag_name` text;--> statement-breakpoint
CREATE INDEX `dag_runs_root` ON `dag_runs` (`root_run_id`);
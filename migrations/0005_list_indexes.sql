CREATE INDEX `dag_runs_top_queued` ON `dag_runs` (`queued_at`,`run_id`) WHERE "dag_runs"."parent_run_id" IS NULL;--> statement-breakpoint
CREATE INDEX `dag_runs_top_dag` ON `dag_runs` (`dag_name`,`queued_at`,`run_id`) WHERE "dag_runs"."parent_run_id" IS NULL;--> statement-breakpoint
CREATE INDEX `dag_runs_top_status` ON `dag_runs` (`status`,`queued_at`,`run_id`) WHERE "dag_runs"."parent_run_id" IS NULL;--> statement-breakpoint
CREATE INDEX `dags_name_nocase` ON `dags` ("name" COLLATE NOCASE);
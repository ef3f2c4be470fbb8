CREATE TABLE `contexts` (
	`name` text PRIMARY KEY NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`variables` text NOT NULL,
	`extends` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `parameter_sets` (
	`name` text PRIMARY KEY NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`params` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `run_inputs` (
	`run_id` text PRIMARY KEY NOT NULL,
	`context` text,
	`parameter_set` text,
	`variables` text DEFAULT '{}' NOT NULL,
	`params` text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE TABLE `webhook_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`dag_name` text NOT NULL,
	`name` text NOT NULL,
	`hash` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE INDEX `webhook_tokens_dag` ON `webhook_tokens` (`dag_name`);
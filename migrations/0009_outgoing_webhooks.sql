CREATE TABLE `webhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`url` text NOT NULL,
	`events` text NOT NULL,
	`filters` text DEFAULT '{}' NOT NULL,
	`headers` text DEFAULT '{}' NOT NULL,
	`secret` text NOT NULL,
	`format` text DEFAULT 'json' NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL
);

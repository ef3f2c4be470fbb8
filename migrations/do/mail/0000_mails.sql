CREATE TABLE `mails` (
	`id` text PRIMARY KEY NOT NULL,
	`job` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_at` integer,
	`sent_at` integer,
	`last_error` text,
	`created_at` integer NOT NULL
);

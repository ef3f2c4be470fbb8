CREATE TABLE `webhook_events` (
	`hook_id` text NOT NULL,
	`event_id` text NOT NULL,
	`event` text NOT NULL,
	PRIMARY KEY(`hook_id`, `event_id`)
);

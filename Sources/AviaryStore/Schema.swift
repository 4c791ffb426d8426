import GRDB

/// Named, append-only migrations: a released migration is never edited, only followed by a new one.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-registry") { db in
            try db.create(table: "function") { t in
                t.primaryKey("name", .text)
                t.column("latest", .text).notNull()
                t.column("lastVersionNumber", .integer).notNull()
                t.column("tags", .text).notNull()
            }
            try db.create(table: "version") { t in
                t.column("function", .text).notNull().references("function", onDelete: .cascade)
                t.column("number", .integer).notNull()
                t.column("configuration", .text).notNull()
                t.column("sourceRevisionId", .text).notNull()
                t.primaryKey(["function", "number"])
            }
            try db.create(table: "alias") { t in
                t.column("function", .text).notNull().references("function", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("functionVersion", .text).notNull()
                t.column("description", .text).notNull()
                t.column("additionalVersion", .integer)
                t.column("additionalWeight", .double)
                t.column("revisionId", .text).notNull()
                t.primaryKey(["function", "name"])
            }
        }
        migrator.registerMigration("v2-event-queue") { db in
            try db.create(table: "event") { t in
                t.primaryKey("requestId", .text)
                t.column("function", .text).notNull()
                t.column("qualifier", .text)
                t.column("payload", .blob).notNull()
                t.column("attempts", .integer).notNull()
                t.column("enqueuedAt", .integer).notNull()
                t.column("dueAt", .integer).notNull()
            }
            try db.create(index: "event_due", on: "event", columns: ["dueAt"])
        }
        migrator.registerMigration("v3-reserved-concurrency") { db in
            try db.alter(table: "function") { t in t.add(column: "reservedConcurrency", .integer) }
        }
        migrator.registerMigration("v4-deployments") { db in
            try db.create(table: "deployment") { t in
                t.primaryKey("id", .text)
                t.column("function", .text).notNull()
                t.column("alias", .text).notNull()
                t.column("status", .text).notNull()
                t.column("active", .boolean).notNull()
                t.column("createdAt", .integer).notNull()
                t.column("updatedAt", .integer).notNull()
                t.column("body", .text).notNull()
            }
            try db.create(index: "deployment_alias", on: "deployment", columns: ["function", "alias", "createdAt"])
            try db.create(index: "deployment_active", on: "deployment", columns: ["active"])
            try db.create(index: "deployment_created", on: "deployment", columns: ["createdAt"])
        }
        migrator.registerMigration("v5-sticky-routing") { db in
            try db.alter(table: "alias") { t in t.add(column: "stickyKey", .text) }
        }
        migrator.registerMigration("v6-audit") { db in
            try db.create(table: "audit") { t in
                t.primaryKey("sequence", .integer)
                t.column("at", .integer).notNull()
                t.column("function", .text)
                t.column("alias", .text)
                t.column("deployment", .text)
                t.column("repository", .text)
                t.column("event", .text).notNull()
                t.column("previousHash", .text).notNull()
                t.column("hash", .text).notNull()
            }
            try db.create(index: "audit_function", on: "audit", columns: ["function", "sequence"])
            try db.create(index: "audit_at", on: "audit", columns: ["at"])
        }
        migrator.registerMigration("v7-environments") { db in
            try db.create(table: "environment") { t in
                t.primaryKey("name", .text)
                t.column("body", .text).notNull()
                t.column("updatedAt", .integer).notNull()
            }
        }
        migrator.registerMigration("v8-releases") { db in
            try db.alter(table: "deployment") { t in
                t.add(column: "application", .text)
                t.add(column: "releaseNumber", .integer)
            }
            try db.create(index: "deployment_release", on: "deployment", columns: ["application", "releaseNumber"], unique: true)
        }
        migrator.registerMigration("v9-function-urls") { db in
            try db.create(table: "function_url") { t in
                t.column("function", .text).notNull().references("function", column: "name", onDelete: .cascade)
                t.column("alias", .text).notNull()  // "" for the function's own URL
                t.column("config", .text).notNull()
                t.primaryKey(["function", "alias"])
            }
        }
        migrator.registerMigration("v10-event-invoke-configs") { db in
            try db.create(table: "event_invoke_config") { t in
                t.column("function", .text).notNull().references("function", column: "name", onDelete: .cascade)
                t.column("qualifier", .text).notNull()  // $LATEST, a version number or an alias
                t.column("config", .text).notNull()
                t.primaryKey(["function", "qualifier"])
            }
        }
        return migrator
    }
}

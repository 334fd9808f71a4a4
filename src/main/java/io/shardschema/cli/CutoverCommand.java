package io.shardschema.cli;

import io.shardschema.catalog.OnlineCatalog;
import picocli.CommandLine.Command;

@Command(name = "cutover", mixinStandardHelpOptions = true, description = "Open the cut-over gate of an online version: copied tables are swapped in. Without --shard: every shard's task, also those that have not copied yet.")
final class CutoverCommand extends GateCommand {
    CutoverCommand(Context context) {
        super(context);
    }

    @Override
    OnlineCatalog.GateResult apply(OnlineCatalog online, int version, Long shard) {
        return online.cutover(version, shard);
    }

    @Override
    String verb() {
        return "cut-over requested";
    }
}

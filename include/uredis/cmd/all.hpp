#pragma once
// Every command descriptor uredis has, for callers who would rather not pick headers one by one.
// One header per Redis command family; descriptor.hpp states the contract they all keep, and
// keys_of.hpp reads their keys (first key, hash slot).

#include "uredis/cmd/applied.hpp"
#include "uredis/cmd/arguments.hpp"
#include "uredis/cmd/condition.hpp"
#include "uredis/cmd/descriptor.hpp"
#include "uredis/cmd/hashes.hpp"
#include "uredis/cmd/keys.hpp"
#include "uredis/cmd/keys_of.hpp"
#include "uredis/cmd/lists.hpp"
#include "uredis/cmd/pubsub.hpp"
#include "uredis/cmd/raw.hpp"
#include "uredis/cmd/scripting.hpp"
#include "uredis/cmd/server.hpp"
#include "uredis/cmd/sets.hpp"
#include "uredis/cmd/sorted_sets.hpp"
#include "uredis/cmd/strings.hpp"
#include "uredis/cmd/transactions.hpp"

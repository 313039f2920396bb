//! The nemesis: faults as data. Empty until `ferret run` lands (partitions, kills, pauses, clocks).

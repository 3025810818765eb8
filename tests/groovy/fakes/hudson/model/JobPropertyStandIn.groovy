package hudson.model

/** Stands for hudson.model.JobProperty (the base class; the script never calls it directly). */
abstract class JobPropertyStandIn {
}

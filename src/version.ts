export const VERSION = '0.1.0';
/** The runtime-spec version tsrun implements and writes into `ociVersion`. */
export const OCI_VERSION = '1.2.0';

// Distributed mode: the image-sync as its own process (telemetry, config and bootstrap order in the kit).
import { runServiceProcess } from '@stratum/service-kit';
import { service } from './service';

void runServiceProcess(service);
